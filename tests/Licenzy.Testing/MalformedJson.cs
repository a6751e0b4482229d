using System.Text;

namespace Licenzy.Testing;

/// <summary>
/// Malformed variants of a valid JSON object, made from a seed so that a failing case is the same
/// on every run: invalid UTF-8, unpaired surrogate escapes, repeated members, wrong types, deep
/// nesting, numbers no field can hold, cut or extended bodies, roots that are not objects. Every
/// variant is a body that API.md's "Requests" rule refuses.
/// </summary>
public static class MalformedJson
{
    /// <summary>One member of the valid object: its name and its JSON text.</summary>
    public readonly record struct Member(string Name, string Json)
    {
        public bool IsString => Json.StartsWith('"');
    }

    public sealed record Case(string What, byte[] Body)
    {
        public override string ToString() => $"{What}: {Show(Body)}";
    }

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xFF], [0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ];

    private static readonly string[] UnpairedSurrogates = [@"\ud800", @"\udbff", @"\udc00", @"\udfff", @"\ud800\ud800", @"\udc00\ud800", @"\ud83d\u0041"];

    public static byte[] Object(IEnumerable<Member> members) =>
        Encoding.UTF8.GetBytes("{" + string.Join(",", members.Select(m => $"\"{m.Name}\":{m.Json}")) + "}");

    /// <summary><paramref name="count"/> malformed variants of the object <paramref name="members"/> make.</summary>
    public static IReadOnlyList<Case> Variants(IReadOnlyList<Member> members, int seed, int count)
    {
        var random = new Random(seed);
        var kinds = Kinds(members);
        var cases = new List<Case>(count);
        // Every kind at least once, then kinds at random.
        for (var i = 0; i < count; i++) cases.Add(kinds[i < kinds.Count ? i : random.Next(kinds.Count)](random));
        return cases;
    }

    private static List<Func<Random, Case>> Kinds(IReadOnlyList<Member> members)
    {
        return
        [
            random => InsideString(random, members, "invalid UTF-8 in", Pick(random, InvalidUtf8)),
            random => InsideString(random, members, "an unpaired surrogate escape in", Encoding.ASCII.GetBytes(Pick(random, UnpairedSurrogates))),
            random => new Case("invalid UTF-8 in an unknown member",
                Join(Opening(members), Encoding.UTF8.GetBytes(",\"note\":\"a"), Pick(random, InvalidUtf8), Encoding.UTF8.GetBytes("b\"}"))),
            random => new Case("an unpaired surrogate escape in a member name",
                Join(Opening(members), Encoding.UTF8.GetBytes($",\"n{Pick(random, UnpairedSurrogates)}\":1}}"))),
            random =>
            {
                var member = Pick(random, members);
                var name = random.Next(2) == 0 ? member.Name : $"\\u{(int)member.Name[0]:x4}{member.Name[1..]}";
                var again = member.IsString ? "\"other\"" : "400";
                var first = random.Next(2) == 0;
                var list = members.Select(m => $"\"{m.Name}\":{m.Json}").ToList();
                list.Insert(first ? 0 : list.Count, $"\"{name}\":{again}");
                return new Case($"'{member.Name}' twice", Encoding.UTF8.GetBytes("{" + string.Join(",", list) + "}"));
            },
            random =>
            {
                var member = Pick(random, members);
                var wrong = Pick(random, member.IsString ? ["123", "true", "[]", "{}", "1.5", "[\"a\"]"] : new[] { "\"1\"", "true", "[]", "{}", "1.5", "[1]" });
                return new Case($"'{member.Name}' as {wrong}", Object(members.Select(m => m == member ? m with { Json = wrong } : m)));
            },
            random =>
            {
                var member = Pick(random, members);
                var huge = Pick(random, ["1e400", "-1e400", "123456789012345678901234567890", "-99999999999999999999", "9223372036854775808", "1E+999999"]);
                return new Case($"'{member.Name}' as {huge}", Object(members.Select(m => m == member ? m with { Json = huge } : m)));
            },
            random =>
            {
                var depth = random.Next(16, 300);
                return new Case($"an unknown member nested {depth} deep",
                    Join(Opening(members), Encoding.UTF8.GetBytes($",\"extra\":{new string('[', depth)}{new string(']', depth)}}}")));
            },
            random =>
            {
                var whole = Object(members);
                var cut = random.Next(0, whole.Length - 1);
                return new Case($"cut after {cut} bytes", whole[..cut]);
            },
            random =>
            {
                var tail = Pick(random, ["{}", " x", ",", " \"more\"", "}", "\n[1]", " null"]);
                return new Case($"followed by '{tail}'", Join(Object(members), Encoding.UTF8.GetBytes(tail)));
            },
            random =>
            {
                var root = Pick(random, ["[]", "\"text\"", "1", "null", "true", "[" + Encoding.UTF8.GetString(Object(members)) + "]"]);
                return new Case($"a root of {root}", Encoding.UTF8.GetBytes(root));
            },
            random => InsideString(random, members, "a raw control character in", [(byte)Pick(random, new[] { 0x01, 0x0A, 0x1F })]),
            random => InsideString(random, members, "a bad escape in", Encoding.ASCII.GetBytes(Pick(random, [@"\x", @"\u12G4", @"\'", @"\u0Gz"]))),
            random =>
            {
                var member = Pick(random, members);
                var list = members.Select(m => m == member ? $"\"{m.Name}\"{m.Json}" : $"\"{m.Name}\":{m.Json}");
                return new Case($"no colon after '{member.Name}'", Encoding.UTF8.GetBytes("{" + string.Join(",", list) + "}"));
            },
        ];
    }

    /// <summary>The object without its closing brace, to add a member to.</summary>
    private static byte[] Opening(IReadOnlyList<Member> members)
    {
        var whole = Object(members);
        return whole[..^1];
    }

    private static Case InsideString(Random random, IReadOnlyList<Member> members, string what, byte[] inserted)
    {
        var member = Pick(random, members.Where(m => m.IsString).ToList());
        var value = Encoding.UTF8.GetBytes(member.Json[1..^1]);
        var at = random.Next(value.Length + 1);
        var parts = members.Select(m => m == member
            ? Join(Encoding.UTF8.GetBytes($"\"{m.Name}\":\""), value[..at], inserted, value[at..], "\""u8.ToArray())
            : Encoding.UTF8.GetBytes($"\"{m.Name}\":{m.Json}"));
        var body = new List<byte>("{"u8.ToArray());
        var first = true;
        foreach (var part in parts)
        {
            if (!first) body.Add((byte)',');
            body.AddRange(part);
            first = false;
        }
        body.Add((byte)'}');
        return new Case($"{what} '{member.Name}'", body.ToArray());
    }

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static byte[] Join(params byte[][] parts) => parts.SelectMany(part => part).ToArray();

    /// <summary>The body as text with the bytes that are not printable ASCII shown in hex.</summary>
    public static string Show(byte[] body)
    {
        var text = new StringBuilder();
        foreach (var b in body.Take(200)) text.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"<{b:X2}>");
        if (body.Length > 200) text.Append($"... ({body.Length} bytes)");
        return text.ToString();
    }
}
