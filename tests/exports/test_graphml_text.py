"""GraphML nodes and edges are formatted as text: the bytes must be what lxml serialises, for any text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exports import graphml as G

# any character, including markup, quotes, whitespace, control characters, surrogates and non-BMP
text = st.text(st.characters(codec=None), max_size=30)
values = st.one_of(text.filter(bool), st.integers(-10**12, 10**12), st.floats(allow_nan=False), st.booleans())


def _both(attrs: dict, data: dict):
    """(text path, lxml path): bytes, or the exception type each raised."""
    out = []
    for fn in (lambda: G._element("node", attrs, data, "node", G._Keys()),
               lambda: G._element_lxml("node", attrs, [(str(k), v, str(v)) for k, v in data.items()])):
        try:
            out.append(fn())
        except ValueError as exc:
            out.append(type(exc))
    return out


@settings(max_examples=400, deadline=None)
@given(ident=text, data=st.dictionaries(st.sampled_from(["label", "role", "usd", "n_txns", "evidence"]), values))
def test_text_elements_equal_lxml(ident, data):
    fast, slow = _both({"id": ident}, data)
    assert fast == slow


@pytest.mark.parametrize("value", ['a<b>&c"d\'e', "line\nbreak\ttab\rcr", "ไทย ខ្មែរ 中文 💸", "=cmd|' /C calc'!A0", ""])
def test_markup_and_scripts(value):
    fast, slow = _both({"source": value or "x", "target": "t", "id": "0"}, {"label": value or "-", "usd": 1.5})
    assert fast == slow and isinstance(fast, bytes)


def test_text_xml_cannot_hold_is_refused_as_lxml_does():
    fast, slow = _both({"id": "a"}, {"label": "bell\x07"})
    assert fast is ValueError and slow is ValueError


def test_a_type_graphml_cannot_hold_is_refused_each_time():
    """The keys remember a (name, type) only once it is declared: a refused value is refused again."""
    class Text(str):
        pass

    keys = G._Keys()
    for _ in range(2):
        with pytest.raises(TypeError):
            G._element("node", {"id": "a"}, {"label": Text("x")}, "node", keys)
    assert keys.elements == []
