package sc.fiji.sd.ij1;

import java.nio.file.Path;

import ij.IJ;
import ij.Macro;
import ij.gui.GenericDialog;
import ij.plugin.PlugIn;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.hub.DownloadListener;
import sc.fiji.sd.hub.DownloadPlan;
import sc.fiji.sd.hub.RepoId;
import sc.fiji.sd.imagej.ImageJModels;
import sc.fiji.sd.imagej.ModelDownloads;
import sc.fiji.sd.imagej.Settings;

/**
 * ImageJ 1.x Plugins › Stable Diffusion › Download Model...: a diffusers ONNX export from the Hugging Face hub into
 * its shared cache (only the files the pipeline needs; resumable; Esc cancels), then optionally chosen in Settings.
 * <p>
 * Macro: {@code run("Download Model...", "repository=[org/name@revision] subfolder=onnx use");}
 */
public class DownloadModelPlugin implements PlugIn {

	@Override
	public void run(String arg) {
		try {
			GenericDialog gd = new GenericDialog("Download Stable Diffusion Model");
			gd.addStringField("Repository", ModelDownloads.SUGGESTED[0], 45);
			gd.addStringField("Subfolder", "", 20);
			gd.addCheckbox("Use it (Settings)", true);
			gd.addMessage("A Hugging Face repository id (org/name, optionally @revision) that holds a diffusers ONNX\n"
				+ "export, e.g. " + String.join(", ", ModelDownloads.SUGGESTED) + ". Leave the subfolder empty unless\n"
				+ "the export is in one. Set HF_TOKEN for gated repositories. Esc cancels; a new download resumes.");
			gd.showDialog();
			if (gd.wasCanceled()) return;
			RepoId id = RepoId.parse(gd.getNextString(), gd.getNextString());
			boolean use = gd.getNextBoolean();
			boolean macro = Macro.getOptions() != null;
			Path folder = ModelDownloads.download(id, plan -> macro || IJ.showMessageWithCancel("Download Model",
				plan.describe() + "\n \nDownload " + DownloadPlan.humanBytes(plan.missingBytes()) + " now?"),
				DownloadListener.NONE);
			if (folder == null) return;
			IJ.log("Stable Diffusion: " + id.repo() + " is in " + folder);
			if (use) {
				Settings old = Settings.load();
				Settings chosen = old.withModel(id.revision().equals(RepoId.DEFAULT_REVISION) && id.subfolder().isEmpty()
					? id.repo() : folder.toString());
				chosen.save();
				if (!chosen.equals(old)) ImageJModels.provider().release();
			}
		}
		catch (StableDiffusionException e) {
			Plugins.userError(e.getMessage());
		}
		catch (RuntimeException | LinkageError e) {
			if (Macro.MACRO_CANCELED.equals(e.getMessage())) throw e;
			Plugins.internalError(e);
		}
	}
}
