"""Bar charts drawn on the server: valid SVG, one bar per value, bars as long as their values,
every value written out, hostile labels inert, and a chart without data that says so."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from kosiflow.render import Series, bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def chart(categories: list[str], *series: Series, title: str = "Days per phase") -> str:
    return bar_chart(
        title=title,
        description="Completed visits, in days.",
        categories=categories,
        series=list(series),
        empty="Nothing to show.",
    )


def days(*values: float | None) -> Series:
    texts = ["no data" if v is None else f"{v:g} days" for v in values]
    return Series("Median", list(values), texts, "solid")


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 -- our own output, parsed to check it is XML


def bars(svg: str) -> list[ET.Element]:
    return [e for e in parsed(svg).iter(f"{SVG}rect") if "kf-bar" in e.get("class", "")]


def texts(svg: str, css_class: str) -> list[str]:
    return [
        e.text or ""
        for e in parsed(svg).iter(f"{SVG}text")
        if css_class in e.get("class", "").split()
    ]


def test_a_chart_is_an_svg_image_with_title_and_description() -> None:
    svg = chart(["Initiation", "Co-creation"], days(12, 30))

    root = parsed(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.findtext(f"{SVG}title") == "Days per phase"
    description = root.findtext(f"{SVG}desc")
    assert description == (
        "Completed visits, in days. Initiation: Median 12 days. Co-creation: Median 30 days."
    )


def test_there_is_one_bar_per_value_and_each_value_is_written_out() -> None:
    p90 = Series("90th percentile", [40, 75, None], ["40 days", "75 days", "no data"], "outline")
    svg = chart(["Initiation", "Co-creation", "Prototyping"], days(12, 30, None), p90)

    assert len(bars(svg)) == 4  # None draws no bar
    assert [b.get("class") for b in bars(svg)] == [
        "kf-bar kf-bar-solid",
        "kf-bar kf-bar-outline",
        "kf-bar kf-bar-solid",
        "kf-bar kf-bar-outline",
    ]
    assert texts(svg, "kf-value") == [
        "12 days",
        "40 days",
        "30 days",
        "75 days",
        "no data",
        "no data",
    ]
    assert texts(svg, "kf-legend") == ["Median", "90th percentile"]


def test_the_two_looks_differ_in_more_than_colour() -> None:
    p90 = Series("90th percentile", [40], ["40 days"], "outline")
    solid, outline = bars(chart(["Initiation"], days(12), p90))

    assert solid.get("fill") == solid.get("stroke")  # a filled bar
    assert outline.get("fill") != outline.get("stroke")  # a light bar with a dark outline
    assert float(outline.get("stroke-width", "0")) > float(solid.get("stroke-width", "0"))


def test_bars_are_as_long_as_their_values() -> None:
    svg = chart(["a", "b", "c", "d"], days(10, 25, 40, 0))

    widths = [float(b.get("width", "nan")) for b in bars(svg)]
    assert widths[3] == 0
    assert widths[0] / widths[2] == pytest.approx(10 / 40, abs=0.001)
    assert widths[1] / widths[2] == pytest.approx(25 / 40, abs=0.001)
    starts = {b.get("x") for b in bars(svg)}
    assert len(starts) == 1  # every bar starts at the axis


def test_all_zero_values_draw_empty_bars_without_dividing_by_zero() -> None:
    svg = chart(["a", "b"], days(0, 0))

    assert [float(b.get("width", "nan")) for b in bars(svg)] == [0, 0]


def test_the_chart_grows_with_its_longest_label() -> None:
    short = parsed(chart(["a"], days(1)))
    long = parsed(chart(["a much longer phase title"], days(1)))

    assert float(long.get("width", "0")) > float(short.get("width", "0"))
    assert short.get("viewBox") == f"0 0 {short.get('width')} {short.get('height')}"


def test_more_rows_make_a_taller_chart() -> None:
    one = parsed(chart(["a"], days(1)))
    three = parsed(chart(["a", "b", "c"], days(1, 2, 3)))

    assert float(three.get("height", "0")) > float(one.get("height", "0"))


def test_hostile_labels_are_escaped_text() -> None:
    hostile = '<script>alert(1)</script>"&\x01'
    svg = chart([hostile], Series(hostile, [3], [hostile], "solid"), title=hostile)

    root = parsed(svg)
    assert "<script" not in svg
    assert root.findtext(f"{SVG}title") == '<script>alert(1)</script>"&\ufffd'
    assert texts(svg, "kf-category") == ['<script>alert(1)</script>"&\ufffd']
    assert not list(root.iter(f"{SVG}script"))


def test_a_very_long_label_is_cut_in_the_drawing_but_whole_in_the_description() -> None:
    label = "Phase " + "x" * 100
    svg = chart([label], days(5))

    (drawn,) = texts(svg, "kf-category")
    assert drawn.endswith("…")
    assert len(drawn) == 40
    assert label in (parsed(svg).findtext(f"{SVG}desc") or "")


def test_a_chart_without_data_says_so() -> None:
    svg = chart([])

    root = parsed(svg)
    assert bars(svg) == []
    assert texts(svg, "kf-empty") == ["Nothing to show."]
    assert float(root.get("width", "0")) > 0


def test_the_same_input_gives_the_same_bytes() -> None:
    assert chart(["a", "b"], days(1.5, 2)) == chart(["a", "b"], days(1.5, 2))


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf")])
def test_a_value_that_is_no_length_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="not a length"):
        chart(["a"], days(value))


def test_a_series_must_have_one_value_per_category() -> None:
    with pytest.raises(ValueError, match="one value and one text per category"):
        chart(["a", "b"], days(1))
