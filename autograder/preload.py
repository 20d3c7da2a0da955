"""Imported once by the fork server, so every submission child starts with Keras loaded."""

from grimoire.quiet import import_keras

import_keras()
