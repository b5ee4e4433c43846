"""ConvService client: ``Client(url).convolve2d(image, kernel, ...)`` returns what ``scipy.signal.convolve2d`` does.

Depends on numpy and the standard library only (urllib). See README.md.
"""
from ._client import BenchmarkReport, Client, ConvServiceError, Job

__all__ = ["BenchmarkReport", "Client", "ConvServiceError", "Job"]
__version__ = "0.1.0"
