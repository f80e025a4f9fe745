"""Small reusable layout widgets: labelled controls, messages, panels."""

from __future__ import annotations

from dash import dcc, html


def control(label: str, component, help_text: str | None = None, *, width: str | None = None) -> html.Div:
    """A control with its label above and a one-line explanation below."""
    children = [html.Label(label, className="control-label"), component]
    if help_text:
        children.append(html.Div(help_text, className="control-help"))
    return html.Div(children, className="control", style={"width": width} if width else None)


def message_area(component_id: str) -> html.Div:
    """Where a page shows its messages (errors, notes); empty and hidden until used."""
    return html.Div(id=component_id, className="message", role="status", **{"aria-live": "polite"})


def panel(title: str, *children, subtitle: str | None = None, class_name: str = "") -> html.Section:
    """A titled card."""
    head = [html.H3(title, className="panel-title")]
    if subtitle:
        head.append(html.P(subtitle, className="panel-subtitle"))
    return html.Section([html.Div(head, className="panel-head"), *children], className=f"panel {class_name}".strip())


def graph(component_id: str, height: int | None = None, **kwargs) -> dcc.Loading:
    """A ``dcc.Graph`` in a loading wrapper, without the mode bar's clutter."""
    config = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2},
              "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}
    style = {"height": f"{height}px"} if height else None
    return dcc.Loading(dcc.Graph(id=component_id, config=config, style=style, **kwargs),
                       type="dot", delay_show=400)


def switch(component_id: str, label: str, value: bool = False) -> dcc.Checklist:
    """An on/off toggle whose value is ``[True]`` when on and ``[]`` when off."""
    return dcc.Checklist(id=component_id, options=[{"label": label, "value": True}],
                         value=[True] if value else [], className="switch", inline=True)


def is_on(value) -> bool:
    """Read a :func:`switch` value (tolerates ``None`` and plain booleans)."""
    if isinstance(value, bool):
        return value
    return bool(value) and True in value


def message(text: str | None, kind: str = "error"):
    """Children for a :func:`message_area`: one alert of ``kind`` (error, warning, info), or nothing."""
    if not text:
        return None
    return html.Div(text, className=f"alert alert-{kind}", role="alert" if kind == "error" else None)
