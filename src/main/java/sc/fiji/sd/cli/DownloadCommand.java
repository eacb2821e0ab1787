package sc.fiji.sd.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import sc.fiji.sd.hub.CancelToken;
import sc.fiji.sd.hub.DownloadListener;
import sc.fiji.sd.hub.DownloadPlan;
import sc.fiji.sd.hub.HubClient;
import sc.fiji.sd.hub.HubEnvironment;
import sc.fiji.sd.hub.RepoId;

@Command(name = "download", sortOptions = false,
	description = { "Download a diffusers ONNX export from the Hugging Face hub into its cache (HF_HUB_CACHE, HF_HOME "
		+ "or ~/.cache/huggingface/hub), fetching only the files the pipeline needs. Resumes an interrupted download; "
		+ "Ctrl-C stops it cleanly. HF_TOKEN for gated or private repositories, HF_ENDPOINT for a mirror, "
		+ "HF_HUB_OFFLINE=1 uses only the cache. Prints the model folder (for --model) on stdout." })
class DownloadCommand implements Callable<Integer> {

	@Spec
	CommandSpec spec;

	@Mixin
	VerboseOption verbose;

	@Parameters(paramLabel = "ORG/NAME[@REVISION]", description = "The repository, optionally at a branch, tag or commit.")
	String repo;

	@Option(names = "--subfolder", paramLabel = "FOLDER",
		description = "Folder of the repository that holds the ONNX export (e.g. onnx; found by itself when there is one).")
	String subfolder;

	@Option(names = "--dry-run", description = "Only show what would be downloaded and its size.")
	boolean dryRun;

	@Override
	public Integer call() {
		PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
		RepoId id;
		try {
			id = RepoId.parse(repo, subfolder);
		}
		catch (sc.fiji.sd.StableDiffusionException e) {
			throw new Main.UsageException(e.getMessage());
		}
		HubEnvironment env = HubOptions.environment();
		HubClient client = new HubClient(env);
		CancelToken cancel = new CancelToken();
		if (env.offline()) {
			Path folder = client.download(id, DownloadListener.NONE, cancel);
			err.println("HF_HUB_OFFLINE is set: using the cached copy.");
			out.println(folder);
			return Main.EXIT_OK;
		}
		DownloadPlan plan = client.plan(id, cancel);
		err.println(plan.describe());
		err.flush();
		if (dryRun) {
			plan.files().forEach(f -> out.println(String.format(Locale.ROOT, "%10s  %s", DownloadPlan.humanBytes(f.size()),
				f.path())));
			out.flush();
			return Main.EXIT_OK;
		}
		// Ctrl-C: stop the transfer, let the partial file be closed (it stays resumable), then let the JVM exit.
		CountDownLatch finished = new CountDownLatch(1);
		Thread hook = new Thread(() -> {
			cancel.cancel();
			try {
				finished.await(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
		}, "download-cancel");
		Runtime.getRuntime().addShutdownHook(hook);
		ProgressBar bar = new ProgressBar(err);
		try {
			Path folder = client.download(plan, bar, cancel);
			bar.done();
			err.println("Downloaded to " + folder);
			err.flush();
			out.println(folder);
			out.flush();
			return Main.EXIT_OK;
		}
		finally {
			bar.done();
			finished.countDown();
			try {
				Runtime.getRuntime().removeShutdownHook(hook);
			}
			catch (IllegalStateException e) {
				// the JVM is already shutting down (Ctrl-C): the hook is running
			}
		}
	}

	/** One line on stderr, redrawn in place: bar, percent, bytes, rate and time left. */
	static final class ProgressBar implements DownloadListener {
		private final PrintWriter err;
		private boolean drawn;

		ProgressBar(PrintWriter err) {
			this.err = err;
		}

		@Override
		public void progress(Progress p) {
			err.print("\r" + line(p));
			err.flush();
			drawn = true;
		}

		void done() {
			if (drawn) err.println();
			drawn = false;
			err.flush();
		}

		static String line(Progress p) {
			int width = 30, filled = (int) Math.round(p.fraction() * width);
			String left = p.secondsLeft() < 0 ? "--:--" : time(p.secondsLeft());
			return String.format(Locale.ROOT, "[%s%s] %3d%%  %s / %s  %s/s  %s left ", "#".repeat(filled),
				" ".repeat(width - filled), (int) (p.fraction() * 100), DownloadPlan.humanBytes(p.done()),
				DownloadPlan.humanBytes(p.total()), DownloadPlan.humanBytes((long) p.bytesPerSecond()), left);
		}

		static String time(double seconds) {
			long s = Math.round(seconds);
			return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
				: String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
		}
	}
}
