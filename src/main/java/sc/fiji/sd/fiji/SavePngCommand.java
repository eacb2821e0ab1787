package sc.fiji.sd.fiji;

import java.io.File;

import org.scijava.command.Command;
import org.scijava.command.ContextCommand;
import org.scijava.log.LogService;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

import ij.ImagePlus;
import sc.fiji.sd.StableDiffusionException;
import sc.fiji.sd.imagej.Provenance;

/**
 * Plugins › Stable Diffusion › Save as PNG with Parameters... in Fiji: the current slice as PNG, with the A1111
 * {@code parameters} text chunk that other Stable Diffusion tools read.
 */
@Plugin(type = Command.class, menuPath = "Plugins>Stable Diffusion>Save as PNG with Parameters...")
public class SavePngCommand extends ContextCommand {

	@Parameter
	private LogService log;

	@Parameter(label = "Image", persist = false)
	private ImagePlus image;

	@Parameter(label = "Path", style = FileWidget.SAVE_STYLE, persist = false)
	private File path;

	@Override
	public void run() {
		try {
			log.info("Saved " + Provenance.savePng(image, path.toPath()));
		}
		catch (StableDiffusionException e) {
			CommandSupport.fail(this, log, e.getMessage());
		}
	}
}
