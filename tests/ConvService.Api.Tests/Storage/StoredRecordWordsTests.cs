using System.Text.Json;
using ConvService.Core.Convolution;
using ConvService.Model;
using ConvService.Storage.Postgres;

namespace ConvService.Api.Tests.Storage;

/// <summary>
/// Records hold enums now, where they held words: rows written before (PostgreSQL keeps records as JSON) must still read,
/// and new rows must carry the same words.
/// </summary>
public sealed class StoredRecordWordsTests
{
    // A NaN-aware job and a filter-bank correlation as the string-typed records wrote them.
    private const string NanAwareRow = """
        {"id":"0193","status":"succeeded","submittedAt":"2026-11-30T09:00:00+00:00","startedAt":null,"finishedAt":null,
         "request":{"image":{"arrayId":"a","shape":[3,3],"source":"data","generate":null},"kernel":{"arrayId":"b","shape":[3,3],"source":"generate","generate":{"shape":[3,3],"fill":"normal","seed":5}},
          "mode":"same","boundary":"extend","fillValue":0,"stride":[1,1],"method":"auto","threads":1,"nanTreatment":"interpolate","normalizeKernel":true,"preserveNan":false},
         "method":"direct","methodReason":"r","methodEstimateMs":0.5,"node":null,"attempts":0,"computeMs":null,"stages":null,"result":null,"results":null,
         "error":null,"hangfireJobId":null,"benchmarkId":null}
        """;

    private const string CorrelationRow = """
        {"id":"0194","status":"queued","submittedAt":"2026-11-30T09:00:00+00:00",
         "request":{"image":{"arrayId":"a","shape":[3,3],"source":"data"},"kernel":{"arrayId":"b","shape":[2,2],"source":"arrayId"},
          "mode":"full","boundary":"symm","fillValue":-1.5,"stride":[1,2],"method":"fft","threads":2,"kernels":[{"arrayId":"b","shape":[2,2],"source":"arrayId"}],"operation":"correlate"},
         "method":"fft","methodReason":"r","methodEstimateMs":0.5}
        """;

    [Fact]
    public void Deserialize_NanAwareRowWrittenAsWords_ReadsItsEnums()
    {
        var record = JsonSerializer.Deserialize<ConvolutionJobRecord>(NanAwareRow, PostgresJobStore.RecordJson)!;
        Assert.Equal(ConvolutionMode.Same, record.Request.Mode);
        Assert.Equal(ConvolutionBoundary.Extend, record.Request.Boundary);
        Assert.Equal(NanTreatment.Interpolate, record.Request.NanTreatment);
        Assert.Equal(ConvolutionMethod.Auto, record.Request.Method);
        Assert.Equal(ConvolutionMethod.Direct, record.Method);
        Assert.Null(record.Request.Operation);
    }

    [Fact]
    public void Serialize_CorrelationRow_WritesTheSameWordsBack()
    {
        var record = JsonSerializer.Deserialize<ConvolutionJobRecord>(CorrelationRow, PostgresJobStore.RecordJson)!;
        Assert.Equal(ConvolutionOperation.Correlate, record.Request.Operation);
        Assert.Equal(ConvolutionBoundary.Symm, record.Request.Boundary);
        string json = JsonSerializer.Serialize(record, PostgresJobStore.RecordJson);
        Assert.Contains("\"mode\":\"full\",\"boundary\":\"symm\",", json);
        Assert.Contains("\"method\":\"fft\",\"threads\":2,", json);
        Assert.Contains("\"operation\":\"correlate\"", json);
        Assert.Contains("\"status\":\"queued\"", json);
        Assert.DoesNotContain("nanTreatment", json);
    }

    [Theory]
    [InlineData(BenchmarkStrategy.ParallelRows, "parallel-rows")]
    [InlineData(BenchmarkStrategy.HangfireFused, "hangfire-fused")]
    [InlineData(BenchmarkStrategy.GpuFused, "gpu-fused")]
    [InlineData(BenchmarkStrategy.Serial, "serial")]
    public void Serialize_BenchmarkStrategy_IsItsWord(BenchmarkStrategy strategy, string word)
    {
        Assert.Equal($"\"{word}\"", JsonSerializer.Serialize(strategy, PostgresJobStore.RecordJson));
        Assert.Equal(strategy, JsonSerializer.Deserialize<BenchmarkStrategy>($"\"{word}\"", PostgresJobStore.RecordJson));
        Assert.True(BenchmarkStrategies.TryParse(word, out var parsed) && parsed == strategy);
        Assert.False(BenchmarkStrategies.TryParse(strategy.ToString(), out _)); // the C# name is not a word
    }
}
