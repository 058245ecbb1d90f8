"""The benchmark runner.

``python -m bench [--scale small|medium|large] [--only NAME] [--record]``
"""
