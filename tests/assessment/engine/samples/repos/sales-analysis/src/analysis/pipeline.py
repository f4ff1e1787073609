"""Raw exports in, every reported number and figure out."""

import sys

from analysis import clean, model, validate


def main(raw_dir: str, out_dir: str) -> None:
    orders = validate.load_orders(raw_dir)
    orders = clean.drop_duplicate_orders(orders)
    model.fit_and_report(orders, out_dir, seed=20240601)


if __name__ == "__main__":
    main(*sys.argv[1:3])
