"""Reference data loaded by a migration: départements and organisations."""

from piccolo.columns import Boolean, Varchar
from piccolo.table import Table


class Area(Table, tablename="area"):
    """A département (or overseas collectivité): the territory of groups and demandes."""

    code = Varchar(length=3, primary_key=True)
    name = Varchar(length=80)
    region = Varchar(length=80, default="")
    is_collectivite = Boolean(default=False)


class Organisation(Table, tablename="organisation"):
    """A kind of public body or structure (CAF, CPAM, France Services…)."""

    code = Varchar(length=40, primary_key=True)
    short_name = Varchar(length=40)
    name = Varchar(length=200)
    category = Varchar(length=20)
    # "partner": answers demandes (instructeurs); "helper": asks (aidants).
    kind = Varchar(length=10, default="partner")
