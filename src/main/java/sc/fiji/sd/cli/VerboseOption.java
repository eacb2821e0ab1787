package sc.fiji.sd.cli;

import picocli.CommandLine.Option;

/** Mixin for every sub-command: {@code --verbose} shows stack traces and extra detail. */
public class VerboseOption {
	@Option(names = "--verbose", description = "Show details and stack traces of errors.")
	public boolean verbose;
}
