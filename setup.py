"""Package discovery; everything else about the package is in pyproject.toml.

Packages are found, never listed, so a new one cannot be left out of the wheel. Alembic's scripts
live at the top of the repository (migrations/) and install as the package stashplex_migrations,
so `stashplex db upgrade` works from a wheel as well as from a checkout. pyproject.toml cannot
rename a found package, hence this file.
"""

from setuptools import find_namespace_packages, find_packages, setup

MIGRATIONS = "stashplex_migrations"

setup(
    packages=[
        # Namespace discovery: data-only folders (the .graphql fragments) are packages too.
        *find_namespace_packages(include=["stashplex", "stashplex.*"], exclude=["*.__pycache__"]),
        MIGRATIONS,
        *(f"{MIGRATIONS}.{name}" for name in find_packages("migrations")),
    ],
    package_dir={MIGRATIONS: "migrations"},
)
