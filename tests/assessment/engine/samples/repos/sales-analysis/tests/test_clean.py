import pandas as pd
from analysis.clean import drop_duplicate_orders


def test_duplicates_are_dropped():
    orders = pd.DataFrame({"order_id": [1, 1, 2]})
    assert list(drop_duplicate_orders(orders)["order_id"]) == [1, 2]
