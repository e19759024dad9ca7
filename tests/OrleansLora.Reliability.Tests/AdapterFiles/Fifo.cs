using System.Runtime.InteropServices;

namespace OrleansLora.Reliability.Tests.AdapterFiles;

/// <summary>Named pipes: the file that used to block the device's grain until someone wrote to it.</summary>
internal static partial class Fifo
{
    private const int OWrOnly = 1, ONonBlock = 0x800, ENXIO = 6;

    public static void Create(string path)
    {
        if (MkFifo(path, 0x1b6 /* 0666 */) != 0)
            throw new IOException($"mkfifo {path} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    /// <summary>
    /// Whether some process holds the FIFO open for reading: a non-blocking open for writing succeeds only
    /// then (ENXIO otherwise). A server that had opened it and were waiting on it would show here.
    /// </summary>
    public static bool HasReader(string path)
    {
        int fd = Open(path, OWrOnly | ONonBlock);
        if (fd >= 0)
        {
            Close(fd);
            return true;
        }
        int errno = Marshal.GetLastPInvokeError();
        return errno == ENXIO ? false : throw new IOException($"open {path} for writing failed: {Marshal.GetPInvokeErrorMessage(errno)}");
    }

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int MkFifo(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
