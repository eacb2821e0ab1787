package sc.fiji.sd.imagej;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import ij.IJ;
import sc.fiji.sd.hub.CancelToken;
import sc.fiji.sd.hub.DownloadListener;
import sc.fiji.sd.hub.DownloadPlan;
import sc.fiji.sd.hub.HubClient;
import sc.fiji.sd.hub.HubEnvironment;
import sc.fiji.sd.hub.RepoId;
import sc.fiji.sd.model.EmbeddedModel;
import sc.fiji.sd.model.ModelCatalog;

/**
 * What the Fiji command and the ImageJ 1 plugin "Download Model..." share: the download with ImageJ's status line,
 * progress bar and Esc to cancel, and the list of models on this machine for the model choosers.
 */
public final class ModelDownloads {

	/**
	 * Repositories whose diffusers ONNX layout (model_index.json, unet/model.onnx, text_encoder/, vae_decoder/,
	 * tokenizer/, scheduler/) was confirmed from public sources; see docs/models.md for where. A user can type any id.
	 */
	public static final String[] SUGGESTED = { "onnx-community/stable-diffusion-v1-5-ONNX" };

	/** The Settings chooser's first entry: the model that comes with the plugin. */
	public static final String SHIPPED = "Shipped model (" + EmbeddedModel.NAME + ", 64×64)";

	/** Where the hub and its cache are: the process environment (tests point it at a local server). */
	public static volatile java.util.function.Supplier<HubEnvironment> environment = HubEnvironment::fromSystem;

	private ModelDownloads() {}

	/** Where Fiji keeps models besides the hub cache: {@code Fiji.app/models} (ImageJ's folder + models). */
	public static List<Path> modelFolders() {
		List<Path> folders = new ArrayList<>();
		String imagej = IJ.getDirectory("imagej");
		if (imagej != null) folders.add(Path.of(imagej, "models"));
		for (String f : ij.Prefs.get("stable.diffusion.modelFolders", "").split(java.io.File.pathSeparator))
			if (!f.isBlank()) folders.add(Path.of(f));
		return folders;
	}

	/** Every usable model on this machine (hub cache first). */
	public static List<ModelCatalog.LocalModel> installed() {
		return ModelCatalog.discover(new HubClient(environment.get()).cache(), modelFolders());
	}

	/** What a chooser entry stands for in Settings' model field: the repository id for downloads, else the folder. */
	public static String settingsValue(ModelCatalog.LocalModel m) {
		if (m.repo() != null) {
			try {
				if (sc.fiji.sd.hub.ModelLocator.resolve(m.repo(), environment.get())
					.filter(m.folder()::equals).isPresent()) return m.repo();
			}
			catch (RuntimeException e) {
				// another snapshot or several exports: the folder itself names it
			}
		}
		return m.folder().toString();
	}

	/**
	 * Downloads a repository's ONNX export, showing progress in ImageJ's status line and progress bar; Esc cancels.
	 *
	 * @param confirm asked with the plan (files and total size) before the first byte; false stops
	 * @return the model folder, or null when not confirmed
	 */
	public static Path download(RepoId id, java.util.function.Predicate<DownloadPlan> confirm,
		DownloadListener extra)
	{
		HubEnvironment env = environment.get();
		HubClient client = new HubClient(env);
		CancelToken cancel = new CancelToken();
		if (env.offline()) return client.download(id, DownloadListener.NONE, cancel);
		IJ.showStatus("Asking " + env.endpoint() + " about " + id.repo() + "...");
		DownloadPlan plan = client.plan(id, cancel);
		if (!confirm.test(plan)) return null;
		IJ.resetEscape();
		// Esc is polled on its own thread: a stalled server sends no progress to check it from.
		Thread escape = new Thread(() -> {
			while (!Thread.currentThread().isInterrupted()) {
				if (IJ.escapePressed()) {
					cancel.cancel();
					return;
				}
				try {
					Thread.sleep(200);
				}
				catch (InterruptedException e) {
					return;
				}
			}
		}, "stable-diffusion-download-escape");
		escape.setDaemon(true);
		escape.start();
		try {
			Path folder = client.download(plan, new DownloadListener() {
				@Override
				public void progress(Progress p) {
					IJ.showStatus(statusLine(id, p));
					IJ.showProgress(p.fraction());
					extra.progress(p);
				}

				@Override
				public void message(String text) {
					extra.message(text);
				}
			}, cancel);
			IJ.showStatus("Downloaded " + id.repo() + " to " + folder);
			return folder;
		}
		finally {
			escape.interrupt();
			IJ.showProgress(1.0);
		}
	}

	static String statusLine(RepoId id, DownloadListener.Progress p) {
		long s = Math.round(p.secondsLeft());
		return String.format(Locale.ROOT, "Downloading %s: %d%% of %s, %s/s, %s left (Esc cancels)", id.repo(),
			(int) (p.fraction() * 100), DownloadPlan.humanBytes(p.total()), DownloadPlan.humanBytes((long) p
				.bytesPerSecond()), p.secondsLeft() < 0 ? "?" : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60));
	}
}
