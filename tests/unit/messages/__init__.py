"""Tests of the Block Kit builders in messages/, one module per screen."""
