using OrleansLora.Engine.Tokenization.Jinja.Ast;
using OrleansLora.Engine.Tokenization.Jinja.Lexing;

namespace OrleansLora.Engine.Tokenization.Jinja.Parsing;

internal static class BodyExtensions
{
    /// <summary>Consumes the <c>%}</c> of the end tag that closed <paramref name="body"/>.</summary>
    public static List<Statement> WithBlockEnd(this List<Statement> body, TokenStream tokens, string endTag)
    {
        tokens.Expect(TokenKind.BlockEnd, null, endTag);
        return body;
    }
}
