using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using OrleansLora.Engine.Native;

namespace OrleansLora.Engine.Files;

/// <summary>
/// Opens files that come from elsewhere (adapter directories) so that no file can block, escape or
/// balloon the reader: the path is resolved by the operating system, must be a regular file (not a
/// FIFO, device, socket or directory) within a size limit, and is opened with O_NONBLOCK (opening a
/// FIFO cannot wait for a writer), O_NOFOLLOW on the resolved path and O_NOCTTY; the opened
/// descriptor is checked again (fstat, and its own path in /proc/self/fd against the sandbox), so
/// a file swapped between the checks and the open is refused too. Linux only.
/// </summary>
public static unsafe class RegularFiles
{
    private const int ENOENT = 2, ENOTDIR = 20, ELOOP = 40;
    private const int TypeMask = 0xF000, Regular = 0x8000;

    /// <summary>
    /// Opens <paramref name="path"/> for reading; throws <see cref="FileRefusedException"/> saying why
    /// when it is missing, not a regular file, larger than <paramref name="maxBytes"/>, unreadable, or
    /// (with a <paramref name="sandbox"/>) outside the sandbox.
    /// </summary>
    public static SafeFileHandle OpenRead(string path, long maxBytes, FileSandbox? sandbox = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        RequireLinux();
        string real = RealPath(path) ?? throw new FileRefusedException(path, "not found.");
        if (sandbox is not null && !sandbox.Contains(real))
            throw new FileRefusedException(path, sandbox.OutsideReason);
        // Checked before opening: opening a device or a FIFO can itself have effects.
        Require(path, StatPath(path, real), maxBytes);
        int fd = NativeMethods.Open(real, NativeMethods.ORdOnly | NativeMethods.ONonBlock | NativeMethods.OCloExec | NativeMethods.ONoCtty | NativeMethods.ONoFollow);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new FileRefusedException(path, errno switch
            {
                ENOENT => "not found (removed while being opened).",
                ELOOP => "it was replaced by a symbolic link while being opened.",
                _ => $"cannot be opened: {Marshal.GetPInvokeErrorMessage(errno)}.",
            });
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            Require(path, StatDescriptor(path, fd), maxBytes);
            if (sandbox is not null && (OpenedPath(fd) is not { } opened || !sandbox.Contains(opened)))
                throw new FileRefusedException(path, sandbox.OutsideReason);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// realpath(3) of <paramref name="path"/>: every symbolic link followed, "." and ".." resolved by
    /// the file system. Null when the path or one of its parents does not exist; throws
    /// <see cref="FileRefusedException"/> when it cannot be resolved (a loop of links, no permission).
    /// </summary>
    public static string? RealPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        RequireLinux();
        nint resolved = NativeMethods.RealPath(path, 0);
        if (resolved == 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is ENOENT or ENOTDIR)
                return null;
            throw new FileRefusedException(path, errno == ELOOP
                ? "it cannot be resolved: a loop of symbolic links."
                : $"it cannot be resolved: {Marshal.GetPInvokeErrorMessage(errno)}.");
        }
        try
        {
            return Marshal.PtrToStringUTF8(resolved)!;
        }
        finally
        {
            NativeMethods.Free(resolved);
        }
    }

    private static void Require(string path, (int Type, long Size) stat, long maxBytes)
    {
        if ((stat.Type & TypeMask) != Regular)
            throw new FileRefusedException(path, $"it is {Describe(stat.Type)}, not a regular file.");
        if (stat.Size > maxBytes)
            throw new FileRefusedException(path, $"it holds {stat.Size} bytes, more than the {maxBytes} accepted for it.");
    }

    private static string Describe(int type) => (type & TypeMask) switch
    {
        0x1000 => "a FIFO (named pipe)",
        0x2000 => "a character device",
        0x4000 => "a directory",
        0x6000 => "a block device",
        0xA000 => "a symbolic link",
        0xC000 => "a socket",
        _ => "not a plain file",
    };

    private static (int Type, long Size) StatPath(string path, string real) => Statx(path, NativeMethods.AtFdCwd, real, 0);

    private static (int Type, long Size) StatDescriptor(string path, int fd) => Statx(path, fd, "", NativeMethods.AtEmptyPath);

    private static (int Type, long Size) Statx(string path, int dirFd, string name, int flags)
    {
        // struct statx has one layout on every architecture: stx_mode (u16) at 28, stx_size (u64) at 40.
        byte* buffer = stackalloc byte[256];
        if (NativeMethods.Statx(dirFd, name, flags, NativeMethods.StatxType | NativeMethods.StatxSize, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new FileRefusedException(path, errno == ENOENT ? "not found." : $"cannot be examined: {Marshal.GetPInvokeErrorMessage(errno)}.");
        }
        return (*(ushort*)(buffer + 28), *(long*)(buffer + 40));
    }

    /// <summary>The path the kernel opened <paramref name="fd"/> from (readlink of /proc/self/fd/N); null when /proc cannot say.</summary>
    private static string? OpenedPath(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void RequireLinux()
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("reading adapter files safely needs Linux (realpath, statx, O_NONBLOCK and /proc/self/fd).");
    }
}
