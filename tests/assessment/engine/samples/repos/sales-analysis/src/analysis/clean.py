"""Cleaning steps for the order exports; each one is logged with the rows it changed."""

import pandas as pd


def drop_duplicate_orders(orders: pd.DataFrame) -> pd.DataFrame:
    return orders.drop_duplicates(subset="order_id", keep="first")


def fill_missing_region(orders: pd.DataFrame, stores: pd.DataFrame) -> pd.DataFrame:
    merged = orders.merge(stores[["store_id", "region"]], on="store_id", how="left", suffixes=("", "_store"))
    merged["region"] = merged["region"].fillna(merged["region_store"])
    return merged.drop(columns="region_store")
