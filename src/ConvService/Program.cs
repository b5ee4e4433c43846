using ConvService.Apis;
using ConvService.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddConvService();

var app = builder.Build();
app.UseConvService();
app.MapHealthApi();
app.MapArraysApi();
app.MapConvolutionsApi();
app.MapBenchmarksApi();
app.MapNodesApi();
app.Run();
