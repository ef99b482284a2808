"""What every rendered report says above its table: the title, who prepared it (the
host charity: a community fund is not a legal person), the fund, the period, when it
was generated, and the unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reports.labels import word


@dataclass(frozen=True)
class Heading:
    title: str
    host: str
    fund_name: str
    fund_code: str
    start: date
    end: date
    generated_at: datetime  # aware, in the funds' time zone
    lang: str

    def lines(self) -> list[str]:
        """The lines under the title."""
        w = lambda key: word(key, self.lang)  # noqa: E731
        sep = "：" if self.lang == "zh" else ": "
        gap = "　" if self.lang == "zh" else "   "
        to = " 至 " if self.lang == "zh" else " to "
        offset = self.generated_at.strftime("%z")
        when = self.generated_at.strftime("%Y-%m-%d %H:%M")
        zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else ""
        return [
            f"{w('preparer')}{sep}{self.host}{gap}{w('fund')}{sep}{self.fund_name}（{self.fund_code}）",
            f"{w('period')}{sep}{self.start.isoformat()}{to}{self.end.isoformat()}{gap}"
            f"{w('generated')}{sep}{when} {zone}{gap}{w('unit')}",
        ]
