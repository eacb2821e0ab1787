package sc.fiji.sd.ij1;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.RenderingHints;
import java.awt.Robot;
import java.awt.image.BufferedImage;
import java.io.File;

import javax.imageio.ImageIO;

import ij.IJ;
import ij.ImageJ;
import ij.ImagePlus;
import ij.Macro;
import ij.WindowManager;
import ij.gui.OvalRoi;
import sc.fiji.sd.imagej.Settings;

/**
 * The README's ControlNet screenshot in a real ImageJ 1.x under Xvfb: an image with an oval selection, the control
 * image made from it ({@code show_control}) and the image Text to Image generated from it
 * ({@code control=[selection]}), side by side. Run by {@code tools/screenshots/screenshots.sh}; not a test.
 */
public final class ControlNetScreenshotUnderXvfb {

	/** The options of the run shown; the README quotes them. */
	static final String OPTIONS = "prompt=[a red circle on a blue background] seed=7 steps=20 guidance=5 "
		+ "scheduler=DDIM width=64 height=64 control=[selection] show_control";

	/** Arguments: the base model (with controlnet/model.onnx), its ControlNet's folder, the output folder. */
	public static void main(String[] args) throws Exception {
		File out = new File(args[2]);
		new ImageJ(); // loads IJ_Prefs.txt: choose the model after that
		new Settings(args[0], "cpu", 0).save();
		IJ.wait(1500);
		ImagePlus specimen = IJ.createImage("specimen", "8-bit black", 64, 64, 1);
		specimen.show();
		IJ.wait(500);
		IJ.run(specimen, "Set... ", "zoom=400 x=32 y=32"); // before the selection: "Set..." would zoom to it
		IJ.wait(500);
		specimen.setRoi(new OvalRoi(8, 18, 44, 28));
		String options = OPTIONS + " controlnet=[" + args[1] + "] ";
		Thread user = new Thread(() -> {
			Macro.setOptions(options); // as a macro's run("Text to Image...", options): no dialog
			new TextToImagePlugin().run("");
		}, "Run$_Text to Image..."); // ImageJ gives macro options only to threads named Run$_…
		user.start();
		user.join(300_000);
		ImagePlus result = WindowManager.getCurrentImage();
		ImagePlus control = WindowManager.getImage("Control (none) of the selection on specimen");
		if (result == null || result == specimen || control == null)
			throw new IllegalStateException("no result or no control window; see the Log: " + IJ.getLog());
		ImagePlus[] shown = { specimen, control, result };
		for (ImagePlus imp : new ImagePlus[] { control, result }) {
			IJ.run(imp, "Set... ", "zoom=400 x=32 y=32");
			IJ.wait(500);
		}
		int x = 10;
		for (ImagePlus imp : shown) {
			imp.getWindow().setLocation(x, 110);
			x += imp.getWindow().getWidth() + 20;
		}
		IJ.wait(1500);
		Rectangle shot = specimen.getWindow().getBounds().union(result.getWindow().getBounds());
		shot.grow(10, 10);
		BufferedImage screen = new Robot().createScreenCapture(shot);
		// Xvfb has no window manager, so no title bars: each window gets its caption below it
		String[] captions = { "the image and its selection", "the control image (show_control)",
			"generated (control=[selection])" };
		BufferedImage picture = new BufferedImage(screen.getWidth(), screen.getHeight() + 30, BufferedImage.TYPE_INT_RGB);
		Graphics2D g = picture.createGraphics();
		g.drawImage(screen, 0, 0, null);
		g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
		g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
		g.setColor(Color.WHITE);
		for (int i = 0; i < shown.length; i++) {
			Rectangle w = shown[i].getWindow().getBounds();
			int width = g.getFontMetrics().stringWidth(captions[i]);
			g.drawString(captions[i], w.x - shot.x + (w.width - width) / 2, screen.getHeight() + 18);
		}
		g.dispose();
		File png = new File(out, "controlnet.png");
		ImageIO.write(picture, "png", png);
		System.out.println("wrote " + png);
		System.exit(0);
	}
}
