using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace ConvService.Browser.Tests;

/// <summary>
/// The real service on Kestrel at a loopback port (a browser cannot reach WebApplicationFactory's in-memory TestServer),
/// with an API key configured so the pages are tested the way a guarded deployment serves them.
/// </summary>
public sealed class KestrelConvServiceFactory : WebApplicationFactory<Program>
{
    /// <summary>The one key the host accepts.</summary>
    public const string ApiKey = "browser-test-key-0123456789";

    private readonly Dictionary<string, string?> _settings = new()
    {
        ["ConvService:ApiKeys:0"] = ApiKey,
        ["ConvService:Workers"] = "2",
    };

    /// <summary>Builds the factory for a free port; <see cref="Start"/> starts it.</summary>
    public KestrelConvServiceFactory()
    {
        Port = FreeLoopbackPort();
        BaseAddress = new Uri($"http://127.0.0.1:{Port}");
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, Port));
    }

    /// <summary>The port Kestrel listens on.</summary>
    public int Port { get; }

    /// <summary>http://127.0.0.1:PORT.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Starts Kestrel.</summary>
    public void Start() => StartServer();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(_settings));
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
    }

    /// <summary>
    /// A free port in 5300–5399 (the range this project's machines keep for services started by hand and by tests),
    /// else any free port the system gives.
    /// </summary>
    private static int FreeLoopbackPort()
    {
        for (int port = 5300; port < 5400; port++)
        {
            try
            {
                var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                probe.Stop();
                return port;
            }
            catch (SocketException)
            {
                // taken: try the next
            }
        }
        var any = new TcpListener(IPAddress.Loopback, 0);
        any.Start();
        int free = ((IPEndPoint)any.LocalEndpoint).Port;
        any.Stop();
        return free;
    }
}
