"""Documents written by the deploy code and read by the runtime, each defined once.

This package is the only part of ``lambda/`` that ``stacks/`` imports; it depends on pydantic
alone so that importing it at synth time pulls in no runtime machinery.
"""
