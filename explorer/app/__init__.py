"""Panel/Bokeh views. Everything below this package is free of Panel."""
from .page import Explorer, create_app

__all__ = ["Explorer", "create_app"]
