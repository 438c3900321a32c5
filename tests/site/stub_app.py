"""A small Panel + Bokeh app with the explorer's page contract, owned by the site tests.

Static tier: layer buttons and canvas taps update the details card through CustomJS.
Live tier: an IntInput's Python callback (numpy) updates a pane; the URL fragment is read
from pn.state.location (the builder's worker fills it in before the script runs).
"""
import html

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, CustomJS, Div, TapTool
from bokeh.plotting import figure

pn.extension()

LAYERS = [("Input", "(3, 32, 32)", "0", ""),
          ("Conv1", "(32, 32, 32)", "896", "nn.Conv2d(3, 32, kernel_size=3, padding=1)"),
          ("Pool1", "(32, 16, 16)", "0", "nn.MaxPool2d(kernel_size=2, stride=2)"),
          ("Conv2", "(64, 16, 16)", "18,496", "nn.Conv2d(32, 64, kernel_size=3, padding=1)"),
          ("FC1", "(256)", "524,544", "nn.Linear(2048, 256)")]
names = [n for n, *_ in LAYERS]
text = [html.escape(f"{n}: output {s}, {p} parameters. {c}") for n, s, p, c in LAYERS]

source = ColumnDataSource({"x": list(range(len(LAYERS))), "y": [0] * len(LAYERS),
                           "name": names, "text": text}, name="layers")
fig = figure(height=140, width=600, tools="", toolbar_location=None,
             x_range=(-1, len(LAYERS)), y_range=(-1, 1))
fig.rect("x", "y", 0.8, 1.2, source=source, color="#4c78a8")
fig.add_tools(TapTool())
details = Div(text='<div id="layer-details">Select a layer</div>')
source.selected.js_on_change("indices", CustomJS(args={"src": source, "div": details}, code="""
const i = src.selected.indices[0];
if (i !== undefined) div.text = '<div id="layer-details">' + src.data.text[i] + '</div>';
"""))
buttons = []
for i, n in enumerate(names):
    b = pn.widgets.Button(name=n, button_type="light", width=70)
    b.js_on_click(args={"src": source}, code=f"src.selected.indices = [{i}];")
    buttons.append(b)

channels = pn.widgets.IntInput(name="channels", value=4, start=1, end=64)
out = pn.pane.HTML("<span id='py-out'>static</span>")


def update(event):
    a = np.arange(event.new)
    out.object = f"<span id='py-out'>python: sum={int(a.sum())} n={event.new}</span>"


channels.param.watch(update, "value")
loc = pn.state.location
fragment = pn.pane.HTML(f"<span id='fragment'>{html.escape(loc.hash if loc else '')}</span>")

pn.Column(pn.Row(*buttons), fig, pn.pane.Bokeh(details), channels, out, fragment).servable(
    title="CNN Architecture Explorer")
