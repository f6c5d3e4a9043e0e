// Test-only: which probes a JEA ValidatePattern accepts, with .NET's own regex engine. JEA anchors
// the role's pattern as ^(pattern)$ and ValidatePatternAttribute matches with IgnoreCase by
// default; the culture in force when the regex is built decides its case folding (Turkish differs).
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;

namespace ArsJeaProof
{
    public static class PatternProbe
    {
        public static string[] Accepted(string rolePattern, string cultureName, RegexOptions options, string[] probes)
        {
            var before = Thread.CurrentThread.CurrentCulture;
            try
            {
                Thread.CurrentThread.CurrentCulture = CultureInfo.GetCultureInfo(cultureName);
                var regex = new Regex("^(" + rolePattern + ")$", options);
                return probes.Where(p => regex.IsMatch(p)).Select(p => cultureName + "/" + options + "/" + p).ToArray();
            }
            finally
            {
                Thread.CurrentThread.CurrentCulture = before;
            }
        }
    }
}
