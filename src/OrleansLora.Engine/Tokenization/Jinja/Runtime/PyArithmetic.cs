using System.Text;

namespace OrleansLora.Engine.Tokenization.Jinja.Runtime;

/// <summary>
/// Python's arithmetic on template values: int (checked; Python's ints never overflow, so an
/// overflow is an error rather than a wrong number), float, str and list concatenation and
/// repetition, floor division and modulo with Python's signs.
/// </summary>
internal static class PyArithmetic
{
    public static object? Binary(string op, object? a, object? b, RenderContext context)
    {
        if (a is Undefined ua)
            throw ua.Error();
        if (b is Undefined ub)
            throw ub.Error();
        try
        {
            return op switch
            {
                "+" => Add(a, b, context),
                "-" => Numeric(op, a, b, (x, y) => checked(x - y), (x, y) => x - y),
                "*" => Multiply(a, b, context),
                "/" => Divide(a, b),
                "//" => FloorDivide(a, b),
                "%" => Modulo(a, b, context),
                "**" => Power(a, b),
                _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not an arithmetic operator"),
            };
        }
        catch (OverflowException)
        {
            throw new TemplateRuntimeException($"integer overflow in '{op}'", op);
        }
    }

    // Arms are cast to object: a switch over long and double would otherwise widen every int to float.
    public static object? Negate(object? value) => value switch
    {
        long l => (object)checked(-l),
        bool b => b ? -1L : 0L,
        double d => -d,
        Undefined u => throw u.Error(),
        _ => throw new TemplateRuntimeException($"bad operand type for unary -: {PyTypes.Name(value)}", "-"),
    };

    private static object? Add(object? a, object? b, RenderContext context)
    {
        if (a is string s && b is string t)
        {
            context.CheckSize(s.Length + (long)t.Length, "+");
            return string.Concat(s, t);
        }
        if (a is List<object?> l && b is List<object?> r)
        {
            context.CheckSize(l.Count + (long)r.Count, "+");
            return new List<object?>(l.Concat(r));
        }
        if (a is object?[] lt && b is object?[] rt)
            return lt.Concat(rt).ToArray();
        return Numeric("+", a, b, (x, y) => checked(x + y), (x, y) => x + y);
    }

    private static object? Multiply(object? a, object? b, RenderContext context)
    {
        if (a is string or List<object?> && b is long or bool)
            return Repeat(a, PyOps.ToLong(b), context);
        if (b is string or List<object?> && a is long or bool)
            return Repeat(b, PyOps.ToLong(a), context);
        return Numeric("*", a, b, (x, y) => checked(x * y), (x, y) => x * y);
    }

    private static object Repeat(object value, long times, RenderContext context)
    {
        times = Math.Max(0, times);
        if (value is string s)
        {
            context.CheckSize(s.Length * times, "*");
            return new StringBuilder(s.Length * (int)times).Insert(0, s, (int)times).ToString();
        }
        var list = (List<object?>)value;
        context.CheckSize(list.Count * times, "*");
        var result = new List<object?>(list.Count * (int)times);
        for (long i = 0; i < times; i++)
            result.AddRange(list);
        return result;
    }

    private static object Divide(object? a, object? b)
    {
        double y = NumberOperand("/", a, b, b);
        double x = NumberOperand("/", a, b, a);
        if (y == 0)
            throw new TemplateRuntimeException("division by zero", "/");
        return x / y;
    }

    private static object FloorDivide(object? a, object? b)
    {
        if (a is long or bool && b is long or bool)
        {
            long x = PyOps.ToLong(a), y = PyOps.ToLong(b);
            if (y == 0)
                throw new TemplateRuntimeException("integer division or modulo by zero", "//");
            long q = x / y;
            return (x % y != 0 && (x < 0) != (y < 0)) ? checked(q - 1) : q;
        }
        double dy = NumberOperand("//", a, b, b), dx = NumberOperand("//", a, b, a);
        if (dy == 0)
            throw new TemplateRuntimeException("float floor division by zero", "//");
        return Math.Floor(dx / dy);
    }

    private static object? Modulo(object? a, object? b, RenderContext context)
    {
        if (a is string format)
            return PyFormat.Percent(format, b, context);
        if (a is long or bool && b is long or bool)
        {
            long x = PyOps.ToLong(a), y = PyOps.ToLong(b);
            if (y == 0)
                throw new TemplateRuntimeException("integer division or modulo by zero", "%");
            long m = x % y;
            return m != 0 && (m < 0) != (y < 0) ? m + y : m;
        }
        double dy = NumberOperand("%", a, b, b), dx = NumberOperand("%", a, b, a);
        if (dy == 0)
            throw new TemplateRuntimeException("float modulo", "%");
        double r = dx % dy;
        return r != 0 && (r < 0) != (dy < 0) ? r + dy : r;
    }

    private static object Power(object? a, object? b)
    {
        if (a is long or bool && b is long or bool && PyOps.ToLong(b) >= 0)
        {
            long x = PyOps.ToLong(a), y = PyOps.ToLong(b), result = 1;
            if (x is 0 or 1 or -1)
                return y == 0 ? 1L : x == -1 && y % 2 == 0 ? 1L : x;
            // |x| >= 2 overflows within 63 multiplications, so this loop is short.
            for (long i = 0; i < y; i++)
                result = checked(result * x);
            return result;
        }
        return Math.Pow(NumberOperand("**", a, b, a), NumberOperand("**", a, b, b));
    }

    private static object Numeric(string op, object? a, object? b, Func<long, long, long> integer, Func<double, double, double> real)
    {
        if (a is long or bool && b is long or bool)
            return integer(PyOps.ToLong(a), PyOps.ToLong(b));
        return real(NumberOperand(op, a, b, a), NumberOperand(op, a, b, b));
    }

    private static double NumberOperand(string op, object? a, object? b, object? operand) =>
        operand is long or double or bool
            ? PyOps.ToDouble(operand)
            : throw new TemplateRuntimeException($"unsupported operand type(s) for {op}: {PyTypes.Name(a)} and {PyTypes.Name(b)}", op);
}
