"""Statistics for diagnostic reader studies: an AI model against radiologists.

The package has no Django dependency, so the web platform, the command line
(``python -m readerstats analyse``) and notebooks share one implementation.
"""

__version__ = "0.1.0"
