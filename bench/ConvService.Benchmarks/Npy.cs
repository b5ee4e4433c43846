using System.Text;
using ConvService.Core.Arrays;

namespace ConvService.Benchmarks;

/// <summary>Just enough .npy (v1/v2, little-endian float64, C order, 2-D) to exchange arrays with compare.py.</summary>
internal static class Npy
{
    public static Array2D Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        var magic = reader.ReadBytes(6);
        if (magic[0] != 0x93 || Encoding.ASCII.GetString(magic, 1, 5) != "NUMPY") throw new InvalidDataException($"{path} is not .npy");
        byte major = reader.ReadByte();
        reader.ReadByte();
        int headerLength = major == 1 ? reader.ReadUInt16() : (int)reader.ReadUInt32();
        string header = Encoding.ASCII.GetString(reader.ReadBytes(headerLength));
        if (!header.Contains("'<f8'") || header.Contains("'fortran_order': True"))
            throw new InvalidDataException($"{path}: need little-endian float64 in C order, header is {header}");
        int open = header.IndexOf('(', header.IndexOf("'shape'", StringComparison.Ordinal));
        int close = header.IndexOf(')', open);
        var dims = header[(open + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (dims.Length != 2) throw new InvalidDataException($"{path}: need a 2-D array, shape is ({header[(open + 1)..close]})");
        int rows = int.Parse(dims[0]), cols = int.Parse(dims[1]);
        // Allocated like every array in the service (pinned, huge-page advised when large), as numpy allocates the
        // python side's arrays: a plain new double[] here would time ours on 4 KB pages against numpy on 2 MB pages.
        var array = Array2D.CreateUninitialized(rows, cols);
        var bytes = reader.ReadBytes(checked(rows * cols * sizeof(double)));
        Buffer.BlockCopy(bytes, 0, array.Data, 0, bytes.Length);
        return array;
    }

    public static void Write(string path, Array2D array)
    {
        string dict = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({array.Rows}, {array.Cols}), }}";
        int total = 10 + dict.Length + 1;
        dict += new string(' ', (64 - total % 64) % 64) + "\n";
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write((byte)0x93);
        writer.Write(Encoding.ASCII.GetBytes("NUMPY"));
        writer.Write((byte)1);
        writer.Write((byte)0);
        writer.Write((ushort)dict.Length);
        writer.Write(Encoding.ASCII.GetBytes(dict));
        var bytes = new byte[array.Data.Length * sizeof(double)];
        Buffer.BlockCopy(array.Data, 0, bytes, 0, bytes.Length);
        writer.Write(bytes);
    }
}
