using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConvService.Http;

/// <summary>
/// Reads an inline array (<c>[[...], ...]</c>) counting values and rows as it goes, and refuses (413) once they pass
/// the limit, instead of letting the serializer build the whole jagged array first: rows of one value cost ~40 bytes
/// of heap each, so a 128 MiB body of <c>[0],</c> rows became ~1.6 GB before the pixel check. A row counts as
/// <see cref="RowCost"/> values (an array's header is about that much heap), so such bodies stop early too. The exact
/// per-role limit (image or kernel) and the shape checks follow in <c>ConvolutionSubmitter.FromRows</c>.
/// </summary>
public sealed class JsonRowsConverter(long maxValues) : JsonConverter<double[][]>
{
    /// <summary>The values one row counts as, for its array header and reference.</summary>
    public const int RowCost = 8;

    private static readonly FiniteDoubleConverter Number = new();

    /// <inheritdoc />
    public override double[][] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException();
        var rows = new List<double[]?>();
        var row = new List<double>();
        long counted = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                rows.Add(null); // FromRows names the null row
                continue;
            }
            if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException();
            counted += RowCost;
            row.Clear();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                row.Add(Number.Read(ref reader, typeof(double), options));
                if (++counted > maxValues) throw TooLarge();
            }
            if (counted > maxValues) throw TooLarge();
            rows.Add(row.ToArray());
        }
        return rows.ToArray()!;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, double[][] value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var row in value)
        {
            writer.WriteStartArray();
            foreach (double v in row) FiniteDoubleConverter.WriteValue(writer, v);
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
    }

    private RequestRejectedException TooLarge() => RequestRejectedException.TooLarge(
        $"An inline 'data' array has more than {maxValues:N0} values (ConvService:Limits:MaxImagePixels / MaxKernelPixels; each row also counts as {RowCost}). " +
        "Send large arrays as .npy with POST /arrays (8 bytes a value) and reference them by arrayId.");
}
