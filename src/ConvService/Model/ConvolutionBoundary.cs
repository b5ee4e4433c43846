namespace ConvService.Model;

/// <summary>
/// How a stored request treats the image's edge: scipy's boundaries (fill, wrap, symm) or, with nanTreatment,
/// astropy's (fill, wrap, extend). One enum for both, so a record names its boundary with one word; the request's
/// synonyms (pad, circular, symmetric) are mapped onto these at the API edge (<c>RequestParsing</c>).
/// </summary>
public enum ConvolutionBoundary
{
    /// <summary>Pad with the fill value.</summary>
    Fill,
    /// <summary>Periodic: the image repeats.</summary>
    Wrap,
    /// <summary>scipy's symmetric reflection (edge pixel repeated).</summary>
    Symm,
    /// <summary>astropy's extend: the edge pixel repeated outward (NaN-aware convolution only).</summary>
    Extend,
}
