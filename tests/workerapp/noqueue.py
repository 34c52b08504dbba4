"""An -A target that defines no pykue Queue."""

VALUE = 1
