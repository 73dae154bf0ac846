using System.Net;
using System.Net.Sockets;

namespace ImageJobs.Testing;

/// <summary>Free loopback TCP ports for processes the tests start.</summary>
public static class FreePort
{
    /// <summary>Asks the OS for a port that is free right now on 127.0.0.1.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
