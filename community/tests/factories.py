from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from factory.django import DjangoModelFactory

from accounts.models import User
from community.models import (
    Building,
    Community,
    Estate,
    Grid,
    Household,
    Membership,
    Organization,
    Resident,
    Street,
    Unit,
)
from community.privacy import id_check_digit
from community.services import id_number_fields


def valid_id_number(serial: int, birth: dt.date = dt.date(1980, 5, 17)) -> str:
    """A checksum-valid ID number; `serial` makes it unique within a test."""
    first17 = f"99{serial % 10000:04d}{birth:%Y%m%d}{serial % 1000:03d}"
    return first17 + id_check_digit(first17)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("phone",)

    phone = factory.Sequence(lambda n: f"1380{n:07d}")
    name = factory.Faker("name", locale="zh_CN")
    password = factory.django.Password("correct-horse-42")


class StreetFactory(DjangoModelFactory):
    class Meta:
        model = Street

    name = factory.Sequence(lambda n: f"测试{n}街道")
    code = factory.Sequence(lambda n: f"ST{n}")


class CommunityFactory(DjangoModelFactory):
    class Meta:
        model = Community

    street = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"测试{n}社区")
    code = factory.Sequence(lambda n: f"CM{n}")


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization

    kind = Organization.Kind.PROPERTY_COMPANY
    name = factory.Sequence(lambda n: f"测试{n}物业公司")


class EstateFactory(DjangoModelFactory):
    class Meta:
        model = Estate

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"测试{n}小区")


class GridFactory(DjangoModelFactory):
    class Meta:
        model = Grid

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"第{n}网格")


class BuildingFactory(DjangoModelFactory):
    class Meta:
        model = Building

    estate = factory.SubFactory(EstateFactory)
    number = factory.Sequence(lambda n: f"{n}号楼")


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit

    building = factory.SubFactory(BuildingFactory)
    number = factory.Sequence(lambda n: f"{n}单元")


class HouseholdFactory(DjangoModelFactory):
    class Meta:
        model = Household

    unit = factory.SubFactory(UnitFactory)
    room = factory.Sequence(lambda n: f"{100 + n}")
    area_m2 = 80


class ResidentFactory(DjangoModelFactory):
    class Meta:
        model = Resident

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Faker("name", locale="zh_CN")
    gender = Resident.Gender.FEMALE
    birth_date = dt.date(1980, 5, 17)
    phone = factory.Sequence(lambda n: f"1391{n:07d}")

    @classmethod
    def _create(cls, model_class: type[Resident], *args: Any, **kwargs: Any) -> Resident:
        id_number = kwargs.pop("id_number", None)
        if id_number is None:
            id_number = valid_id_number(cls._meta.next_sequence())
        kwargs.update(id_number_fields(id_number))
        return super()._create(model_class, *args, **kwargs)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Membership.Role.COMMUNITY_STAFF
