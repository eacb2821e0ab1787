package sc.fiji.sd.cli;

import java.io.PrintWriter;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import sc.fiji.sd.model.ModelProvider;

/**
 * Command-line entry: {@code java -jar target/stable-diffusion.jar <command> [options]}.
 * <p>
 * Exit codes: 0 success, 2 usage error (bad or missing option), 1 any other error. Errors are one message on stderr
 * that says what is wrong and what to do; the stack trace only with {@code --verbose}.
 * <p>
 * A run owns its model provider: created here, closed (with the model's native memory) when the command ends.
 */
@Command(name = "stable-diffusion", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
	description = "Stable Diffusion on ONNX Runtime: text to image, image to image, inpainting, outpainting.",
	subcommands = { CommandLine.HelpCommand.class })
public class Main implements Runnable {

	public static final int EXIT_OK = 0;
	public static final int EXIT_ERROR = 1;
	public static final int EXIT_USAGE = 2;

	@CommandLine.Spec
	CommandLine.Model.CommandSpec spec;

	/** Where the sub-commands load their model (they reach it as their {@code @ParentCommand}). */
	private final ModelProvider models;

	Main(ModelProvider models) {
		this.models = models;
	}

	/** The run's model provider. */
	ModelProvider models() {
		return models;
	}

	public static void main(String[] args) {
		System.exit(run(args));
	}

	/** Runs the command line and returns the exit code (tests call this instead of {@link #main}). */
	public static int run(String... args) {
		try (ModelProvider models = new ModelProvider()) {
			return commandLine(models).execute(args);
		}
	}

	/** The command line of a run whose models come from {@code models} (the caller closes it). */
	static CommandLine commandLine(ModelProvider models) {
		CommandLine cl = new CommandLine(new Main(models));
		// Sub-commands register here, one line each.
		cl.addSubcommand(new Txt2ImgCommand());
		cl.addSubcommand(new Img2ImgCommand());
		cl.addSubcommand(new InpaintCommand());
		cl.addSubcommand(new OutpaintCommand());
		cl.addSubcommand(new InfoCommand());
		cl.addSubcommand(new OptimizeCommand());
		cl.addSubcommand(new TokenizeCommand());
		cl.addSubcommand(new BenchCommand());
		cl.addSubcommand(BatchCommand.withColumnHelp(new CommandLine(new BatchCommand())));
		cl.addSubcommand(new ModelsCommand());
		cl.addSubcommand(new DownloadCommand());
		for (CommandLine sub : cl.getSubcommands().values()) // the options of the settings table
			if (sub.getCommand() instanceof GenerationCommand g) SettingOptions.addTo(sub.getCommandSpec(), g.mode());
		cl.setExecutionExceptionHandler(Main::handleExecutionException);
		cl.setExecutionStrategy(Main::executeReportingErrors);
		cl.setParameterExceptionHandler(Main::handleParameterException);
		return cl;
	}

	@Override
	public void run() {
		// No sub-command given: show what there is.
		spec.commandLine().usage(spec.commandLine().getErr());
		throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: choose one of the commands above.");
	}

	/**
	 * Runs the command; an {@link Error} (picocli lets them through) becomes a message too. Out of memory says what to
	 * do; the stack trace only with --verbose.
	 */
	private static int executeReportingErrors(CommandLine.ParseResult parsed) {
		try {
			return new CommandLine.RunLast().execute(parsed);
		}
		catch (VirtualMachineError | LinkageError e) {
			CommandLine cl = parsed.commandSpec().commandLine();
			PrintWriter err = cl.getErr();
			boolean verbose = parsed.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"));
			err.println("error: " + errorMessage(e, Runtime.getRuntime().maxMemory()));
			if (verbose) e.printStackTrace(err);
			err.flush();
			return EXIT_ERROR;
		}
	}

	/** What to tell the user about an {@link Error}. */
	static String errorMessage(Throwable e, long maxHeapBytes) {
		if (e instanceof OutOfMemoryError) {
			return "Out of memory (" + (e.getMessage() == null ? "Java heap" : e.getMessage()) + ", with at most "
				+ (maxHeapBytes >> 20) + " MB of Java heap). Use a smaller size, fewer images per batch (--batch), "
				+ "or give Java more memory: java -Xmx8g -jar stable-diffusion.jar ...";
		}
		if (e instanceof StackOverflowError) {
			return "Stack overflow. Run again with a larger stack (java -Xss16m -jar stable-diffusion.jar ...) and "
				+ "report the problem with --verbose output.";
		}
		return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
			+ " (run with --verbose for details)";
	}

	private static int handleParameterException(CommandLine.ParameterException e, String[] args) {
		PrintWriter err = e.getCommandLine().getErr();
		err.println("error: " + e.getMessage());
		err.println("Run with --help for the options.");
		err.flush();
		return EXIT_USAGE;
	}

	private static int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult parsed) {
		PrintWriter err = cl.getErr();
		boolean verbose = parsed.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"))
			|| parsed.hasMatchedOption("--verbose");
		if (e instanceof UsageException) {
			err.println("error: " + e.getMessage());
			err.flush();
			return EXIT_USAGE;
		}
		String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
		if (e instanceof sc.fiji.sd.StableDiffusionException) err.println("error: " + message);
		else err.println("error: " + message + (verbose ? "" : " (run with --verbose for details)"));
		if (verbose) e.printStackTrace(err);
		err.flush();
		return EXIT_ERROR;
	}

	/** A bad combination of options found after parsing (e.g. a mask without an image): exit code 2. */
	public static class UsageException extends RuntimeException {
		public UsageException(String message) {
			super(message);
		}
	}

	static class Version implements CommandLine.IVersionProvider {
		@Override
		public String[] getVersion() {
			String v = Main.class.getPackage().getImplementationVersion();
			return new String[] { "stable-diffusion " + (v == null ? "(development build)" : v) };
		}
	}
}
