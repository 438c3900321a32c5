"""CNN Architecture Explorer: analyse and explain convolutional networks."""

__version__ = "0.1.0"
