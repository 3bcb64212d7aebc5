"""The web app (see :mod:`svidok.web.app`)."""
