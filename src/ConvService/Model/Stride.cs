using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConvService.Model;

/// <summary>An output stride: a number n means [n, n].</summary>
/// <param name="Y">Row stride.</param>
/// <param name="X">Column stride.</param>
[JsonConverter(typeof(StrideJsonConverter))]
public readonly record struct Stride(int Y, int X);

/// <summary>Reads <c>n</c> or <c>[sy, sx]</c>; writes <c>[sy, sx]</c>.</summary>
public sealed class StrideJsonConverter : JsonConverter<Stride>
{
    private const string Expected = "stride must be a positive integer n or an array [sy, sx] of two positive integers";

    /// <inheritdoc />
    public override Stride Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            int n = ReadInt(ref reader);
            return new Stride(n, n);
        }
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException($"{Expected}, not {reader.TokenType}.");
        reader.Read();
        int y = ReadInt(ref reader);
        reader.Read();
        int x = ReadInt(ref reader);
        reader.Read();
        if (reader.TokenType != JsonTokenType.EndArray) throw new JsonException($"{Expected}; the array has more than two values.");
        return new Stride(y, x);
    }

    private static int ReadInt(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int value))
            throw new JsonException($"{Expected} (got {(reader.TokenType == JsonTokenType.Number ? "a non-integer or out-of-range number" : reader.TokenType.ToString())}).");
        return value;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, Stride value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        writer.WriteNumberValue(value.Y);
        writer.WriteNumberValue(value.X);
        writer.WriteEndArray();
    }
}
