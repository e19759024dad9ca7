namespace OrleansLora.Engine.Tokenization.Jinja.Ast;

/// <summary>How a statement ended: normally, or by <c>{% break %}</c> / <c>{% continue %}</c> (the loopcontrols extension transformers enables).</summary>
internal enum Flow
{
    Normal,
    Break,
    Continue,
}
