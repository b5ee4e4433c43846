using System.Runtime.CompilerServices;

namespace ConvService.Core.Arrays;

/// <summary>
/// A dense, row-major 2-D array of float64 values: a shape and one contiguous buffer.
/// Rows are exposed as spans so hot loops never touch jagged arrays.
/// </summary>
public sealed class Array2D
{
    private readonly double[] _data;

    /// <summary>Creates a zero-filled array of the given shape.</summary>
    public Array2D(int rows, int cols)
    {
        ValidateShape(rows, cols);
        Rows = rows;
        Cols = cols;
        _data = rows * (long)cols == 0 ? [] : LargeBuffers.Allocate(checked(rows * cols), zeroed: true);
    }

    /// <summary>Wraps an existing row-major buffer of exactly <c>rows × cols</c> values (not copied).</summary>
    public Array2D(int rows, int cols, double[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ValidateShape(rows, cols);
        if (data.Length != rows * (long)cols)
            throw new ArgumentException($"Buffer holds {data.Length} values but shape ({rows}, {cols}) needs {rows * (long)cols}.", nameof(data));
        Rows = rows;
        Cols = cols;
        _data = data;
    }

    /// <summary>
    /// An array whose contents are undefined until written: for outputs that will be overwritten in full
    /// (e.g. by <see cref="Convolution.Convolver.Convolve2D(Array2D, Array2D, Convolution.ConvolutionOptions, Array2D, CancellationToken)"/>),
    /// sparing a zeroing pass over a buffer that may be megabytes long.
    /// </summary>
    public static Array2D CreateUninitialized(int rows, int cols)
    {
        ValidateShape(rows, cols);
        return new Array2D(rows, cols, rows * (long)cols == 0 ? [] : LargeBuffers.Allocate(rows * cols, zeroed: false));
    }

    /// <summary>Number of rows (first axis).</summary>
    public int Rows { get; }

    /// <summary>Number of columns (second axis).</summary>
    public int Cols { get; }

    /// <summary>Total number of elements.</summary>
    public long Length => (long)Rows * Cols;

    /// <summary>True when the array has no elements (a zero-length axis).</summary>
    public bool IsEmpty => Rows == 0 || Cols == 0;

    /// <summary>The whole buffer, row-major.</summary>
    public Span<double> Span => _data;

    /// <summary>The underlying row-major buffer (not a copy).</summary>
    public double[] Data => _data;

    /// <summary>Element at (row, col).</summary>
    public ref double this[int row, int col]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((uint)row >= (uint)Rows || (uint)col >= (uint)Cols)
                throw new IndexOutOfRangeException($"({row}, {col}) is outside shape ({Rows}, {Cols}).");
            return ref _data[row * Cols + col];
        }
    }

    /// <summary>One row as a span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<double> Row(int row) => _data.AsSpan(row * Cols, Cols);

    /// <summary>Builds an array from a rectangular C# array.</summary>
    public static Array2D FromArray(double[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var result = CreateUninitialized(values.GetLength(0), values.GetLength(1));
        for (int i = 0; i < result.Rows; i++)
            for (int j = 0; j < result.Cols; j++)
                result._data[i * result.Cols + j] = values[i, j];
        return result;
    }

    private static void ValidateShape(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (rows * (long)cols > Array.MaxLength)
            throw new ArgumentException($"Shape ({rows}, {cols}) has more elements than one .NET array can hold.");
    }

    /// <inheritdoc />
    public override string ToString() => $"Array2D({Rows}, {Cols})";
}
