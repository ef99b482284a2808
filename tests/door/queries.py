"""Hostile documents the door's tests send."""


def fan_out(fragments: int = 7, spreads: int = 12) -> str:
    """Each fragment spreads the next `spreads` times: about 600 characters that
    expand into spreads**(fragments - 1) selections."""
    parts = []
    for i in range(fragments):
        body = f"...F{i + 1} " * spreads if i < fragments - 1 else "__typename"
        parts.append(f"fragment F{i} on Query {{ {body} }}")
    return "{ ...F0 } " + " ".join(parts)
