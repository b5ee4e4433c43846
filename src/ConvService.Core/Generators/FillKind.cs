namespace ConvService.Core.Generators;

/// <summary>How <see cref="ArrayGenerator.Generate"/> fills a new array.</summary>
public enum FillKind
{
    /// <summary>All zeros; nothing is drawn, only the buffer is allocated.</summary>
    Zeros,

    /// <summary>Standard normal samples, N(0, 1).</summary>
    Normal,

    /// <summary>Uniform samples on [0, 1).</summary>
    Uniform,
}
