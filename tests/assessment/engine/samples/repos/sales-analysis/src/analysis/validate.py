import pandas as pd


def load_orders(raw_dir: str) -> pd.DataFrame:
    orders = pd.read_csv(f"{raw_dir}/orders.csv", parse_dates=["ordered_at"])
    assert orders["order_id"].notna().all(), "order ids must be present"
    return orders
