namespace ConvService.Api.Tests.Architecture;

// Two tiny fake layers for the checker's own tests (the outermost class is the layer): Low must not use High.

public static class High
{
    public sealed class Upper
    {
        public static int Count() => 1;
        public Low.Clean Lower { get; } = new();
    }
}

public static class Low
{
    public sealed class Clean
    {
        public int Value() => 2;
    }

    public sealed class BodyUser
    {
        public object Make() => new High.Upper(); // only in the body: no signature names Upper
    }

    public sealed class LambdaUser
    {
        public Func<int> Counter(int offset) => () => High.Upper.Count() + offset; // in a closure class
    }

    public sealed class FieldUser
    {
        private High.Upper? _typed;

        public object? Peek() => _typed;

        public void Set() => _typed = null;
    }
}
