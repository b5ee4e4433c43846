using System.Net;
using System.Net.Sockets;

namespace ConvService.Api.Tests.Postgres;

/// <summary>
/// A loopback TCP forwarder in front of PostgreSQL, so a test can take "the database" away (refuse new connections and
/// cut the open ones) and bring it back without touching the shared server.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = new();
    private readonly Lock _gate = new();
    private readonly Task _acceptLoop;
    private volatile bool _up = true;

    public TcpProxy(string host, int port)
    {
        _target = new IPEndPoint(IPAddress.Parse(host == "localhost" ? "127.0.0.1" : host), port);
        _listener.Start();
        _acceptLoop = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Cuts every open connection and refuses new ones until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        _up = false;
        lock (_gate)
        {
            foreach (var client in _open) client.Dispose();
            _open.Clear();
        }
    }

    public void Restore() => _up = true;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try { inbound = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) when (_stop.IsCancellationRequested) { return; }
            if (!_up) { inbound.Dispose(); continue; }
            _ = ForwardAsync(inbound);
        }
    }

    private async Task ForwardAsync(TcpClient inbound)
    {
        var outbound = new TcpClient();
        try
        {
            await outbound.ConnectAsync(_target, _stop.Token);
            lock (_gate) { _open.Add(inbound); _open.Add(outbound); }
            using var both = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var a = inbound.GetStream().CopyToAsync(outbound.GetStream(), both.Token);
            var b = outbound.GetStream().CopyToAsync(inbound.GetStream(), both.Token);
            await Task.WhenAny(a, b);
            both.Cancel();
        }
        catch (Exception)
        {
            // A cut or a closed peer: both sides are closed below.
        }
        finally
        {
            lock (_gate) { _open.Remove(inbound); _open.Remove(outbound); }
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        Cut();
        try { await _acceptLoop; } catch (Exception) { /* stopping */ }
    }
}
