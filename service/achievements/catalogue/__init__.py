"""The public catalogue: achievements open for applications, their issuers, rubrics (without the
assessor's hints) and skills, for anyone deciding what to apply for (``/v1/catalogue``, the home
page and the achievement pages)."""
