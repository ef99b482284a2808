"""What the public may see: donor names masked as the contract describes."""

from __future__ import annotations

ANONYMOUS = "匿名"
# Names ending like these are organisations (masked to two characters).
ORGANISATION_SUFFIXES = (
    "公司",
    "银行",
    "支行",
    "分行",
    "医院",
    "学校",
    "大学",
    "学院",
    "物业",
    "协会",
    "中心",
    "委员会",
    "基金会",
    "集团",
    "商会",
    "超市",
    "酒店",
    "餐厅",
    "店",
    "厂",
    "所",
    "站",
    "局",
    "队",
    "会",
    "社",
    "部",
    "院",
    "校",
    "馆",
)


def is_organisation_name(name: str) -> bool:
    return name.endswith(ORGANISATION_SUFFIXES) or (name.isascii() and len(name.split()) > 2)


def mask_person(name: str) -> str:
    return f"{name[0]}*"


def mask_organisation(name: str) -> str:
    return f"{name[:2]}**"


def masked_donor(
    *, anonymous: bool, donor_name: str | None, partner_name: str | None, partner_kind: str | None
) -> str:
    """张三丰 -> 张*; 浦发银行百花路支行 -> 浦发**; anonymous -> 匿名. A gift recorded with
    only a partner shows the partner's name, masked by its kind (RESIDENT as a person)."""
    if anonymous:
        return ANONYMOUS
    if donor_name:
        if partner_kind is not None and donor_name == partner_name:
            return (
                mask_person(donor_name)
                if partner_kind == "RESIDENT"
                else mask_organisation(donor_name)
            )
        return (
            mask_organisation(donor_name)
            if is_organisation_name(donor_name)
            else mask_person(donor_name)
        )
    if partner_name:
        return (
            mask_person(partner_name)
            if partner_kind == "RESIDENT"
            else mask_organisation(partner_name)
        )
    return ANONYMOUS
