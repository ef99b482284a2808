"""Amounts in Chinese capital numerals (大写金额), as cheques and receipts write them:
123.45 yuan is 壹佰贰拾叁元肆角伍分, 100 yuan is 壹佰元整. Pure.

Rules (支付结算办法): each run of zeros inside the figure is written as one 零; a
figure that ends at 元 ends with 整; when the yuan's last digit is 0 and jiao follow,
or jiao is 0 and fen follow, a 零 marks the gap (壹仟陆佰捌拾元零叁角贰分); below one
yuan the 元 is left out (伍角). Ten is 壹拾, never 拾.
"""

from __future__ import annotations

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))
GROUPS = ("", "万", "亿", "万亿")
LIMIT_FEN = 10**16 * 100


def _group(n: int) -> str:
    """0 < n < 10000, with inner zeros but no leading one."""
    out, zero = "", False
    for place, unit in PLACES:
        digit = n // place % 10
        if digit == 0:
            zero = zero or bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += DIGITS[digit] + unit
    return out


def _yuan(n: int) -> str:
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out, gap = "", False
    for i in reversed(range(len(groups))):
        g = groups[i]
        if g == 0:
            gap = gap or bool(out)
            continue
        if out and (gap or g < 1000):
            out += "零"
        out += _group(g) + GROUPS[i]
        gap = False
    return out


def capital_amount(fen: int) -> str:
    """The amount `fen` (whole fen, > 0) in capital numerals."""
    if type(fen) is not int or not 0 < fen < LIMIT_FEN:
        raise ValueError("an amount in capitals is a positive whole number of fen")
    yuan, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    out = _yuan(yuan) + "元" if yuan else ""
    if jiao == 0 and cents == 0:
        return out + "整"
    if jiao:
        if yuan and yuan % 10 == 0:
            out += "零"
        out += DIGITS[jiao] + "角"
    if cents:
        if yuan and not jiao:
            out += "零"
        out += DIGITS[cents] + "分"
    return out
