using System.Runtime.InteropServices;

namespace OrleansLora.Engine.Tests.Support;

/// <summary>Named pipes for tests of readers that must not block on them.</summary>
internal static partial class Fifo
{
    public static void Create(string path)
    {
        if (MkFifo(path, 0x1b6 /* 0666 */) != 0)
            throw new IOException($"mkfifo {path} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkFifo(string path, uint mode);
}
