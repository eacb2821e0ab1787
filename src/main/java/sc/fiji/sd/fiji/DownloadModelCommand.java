package sc.fiji.sd.fiji;

import java.nio.file.Path;

import org.scijava.ItemIO;
import org.scijava.app.StatusService;
import org.scijava.command.Command;
import org.scijava.command.ContextCommand;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.hub.DownloadListener;
import sc.fiji.sd.hub.RepoId;
import sc.fiji.sd.imagej.ModelDownloads;
import sc.fiji.sd.imagej.Settings;

/**
 * Plugins › Stable Diffusion › Download Model... in Fiji: a diffusers ONNX export from the Hugging Face hub into its
 * shared cache, with progress in Fiji's status bar; Esc cancels (the next download resumes).
 * <p>
 * Macro: {@code run("Download Model...", "repository=[org/name@revision] subfolder=onnx use=true");}
 */
@Plugin(type = Command.class, menuPath = "Plugins>Stable Diffusion>Download Model...")
public class DownloadModelCommand extends ContextCommand {

	@Parameter
	private StableDiffusionService sd;

	@Parameter
	private StatusService status;

	@Parameter
	private LogService log;

	@Parameter(label = "Repository (org/name[@revision])", persist = false,
		description = "A Hugging Face repository with a diffusers ONNX export, e.g. "
			+ "onnx-community/stable-diffusion-v1-5-ONNX. HF_TOKEN for gated ones.")
	private String repository = ModelDownloads.SUGGESTED[0];

	@Parameter(label = "Subfolder (empty: found by itself)", required = false, persist = false)
	private String subfolder = "";

	@Parameter(label = "Use it (Settings)", persist = false)
	private boolean use = true;

	@Parameter(label = "Model folder", type = ItemIO.OUTPUT)
	private String folder;

	@Override
	public void run() {
		try {
			RepoId id = RepoId.parse(repository, subfolder);
			Path downloaded = ModelDownloads.download(id, plan -> {
				log.info("Stable Diffusion: downloading " + plan.describe());
				// Interactively, the size is asked about before the first byte; macros and headless runs just go.
				boolean interactive = !java.awt.GraphicsEnvironment.isHeadless()
					&& ij.macro.Interpreter.getInstance() == null && ij.Macro.getOptions() == null;
				return !interactive || ij.IJ.showMessageWithCancel("Download Model", plan.describe() + "\n \nDownload "
					+ sc.fiji.sd.hub.DownloadPlan.humanBytes(plan.missingBytes()) + " now?");
			}, new DownloadListener() {
				@Override
				public void progress(Progress p) {
					status.showProgress((int) (p.fraction() * 1000), 1000);
				}
			});
			if (downloaded == null) {
				cancel("Download not started.");
				return;
			}
			folder = downloaded.toString();
			log.info("Stable Diffusion: " + id.repo() + " is in " + folder);
			if (use) {
				Settings old = Settings.load();
				sd.apply(old.withModel(id.revision().equals(RepoId.DEFAULT_REVISION) && id.subfolder().isEmpty()
					? id.repo() : folder));
			}
		}
		catch (StableDiffusionException e) {
			CommandSupport.fail(this, log, e.getMessage());
		}
	}
}
