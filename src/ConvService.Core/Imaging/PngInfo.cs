namespace ConvService.Core.Imaging;

/// <summary>What a PNG's IHDR chunk declares, read without decompressing anything.</summary>
/// <param name="Width">Pixels per row.</param>
/// <param name="Height">Number of rows.</param>
/// <param name="BitDepth">Bits per sample (1, 2, 4, 8 or 16).</param>
/// <param name="ColorType">PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA.</param>
/// <param name="Interlaced">True for Adam7 interlacing.</param>
public sealed record PngInfo(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
{
    /// <summary>Width × height, the figure to compare with a pixel limit.</summary>
    public long PixelCount => (long)Width * Height;
}
