package sc.fiji.sd.ij1;

import java.nio.file.Path;

import ij.IJ;
import ij.ImagePlus;
import ij.Macro;
import ij.WindowManager;
import ij.io.SaveDialog;
import ij.plugin.PlugIn;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.imagej.Provenance;

/**
 * ImageJ 1.x Plugins › Stable Diffusion › Save as PNG with Parameters...: saves the current slice of a result as
 * PNG with its A1111 {@code parameters} text chunk (what other Stable Diffusion tools read back).
 * <p>
 * Macro: {@code run("Save as PNG with Parameters...", "path=/some/where/image.png");}
 */
public class SavePngPlugin implements PlugIn {

	@Override
	public void run(String arg) {
		try {
			ImagePlus imp = WindowManager.getCurrentImage();
			if (imp == null) throw new StableDiffusionException("No image is open: generate one with Text to Image... first.");
			String path = Macro.getOptions() != null ? Macro.getValue(Macro.getOptions(), "path", null) : null;
			if (path == null) {
				SaveDialog sd = new SaveDialog("Save as PNG with parameters", imp.getTitle(), ".png");
				if (sd.getFileName() == null) return;
				path = sd.getDirectory() + sd.getFileName();
				ij.plugin.frame.Recorder.recordOption("path", path);
			}
			Path written = Provenance.savePng(imp, Path.of(path));
			IJ.showStatus("Saved " + written);
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
